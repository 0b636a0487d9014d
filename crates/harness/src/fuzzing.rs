//! What the `cargo fuzz` targets call: one input through the pipeline on a lineup kept for
//! the whole fuzzing process.

use std::cell::RefCell;

use wasmdiff_cases::describe;
use wasmdiff_engines::Limits;

use crate::differential::Differential;

thread_local! {
    static DIFFERENTIAL: RefCell<Option<Differential>> = const { RefCell::new(None) };
}

/// Process setup for a fuzz target: no Rust backtraces on the hot path (see the README).
pub fn init() {
    // SAFETY: called from libFuzzer's init hook, before any other thread exists.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
}

/// Runs `data` on the engines named by `WASMDIFF_ENGINES` (default: the default lineup) and
/// returns a description of the divergence, if no known engine bug explains it. Inputs that
/// make no test case are skipped.
pub fn differential(data: &[u8]) -> Option<String> {
    DIFFERENTIAL.with_borrow_mut(|slot| {
        let differential = slot.get_or_insert_with(|| {
            let specs = match std::env::var("WASMDIFF_ENGINES") {
                Ok(list) => wasmdiff_engines::parse_list(&list),
                Err(_) => Ok(wasmdiff_engines::defaults()),
            }
            .unwrap_or_else(|e| panic!("WASMDIFF_ENGINES: {e}"));
            Differential::new(&specs, Limits::default()).unwrap_or_else(|e| panic!("{e:#}"))
        });
        let checked = differential.check(data).ok()?;
        checked.verdict.divergence()?;
        if !checked.known_bugs.is_empty() {
            return None;
        }
        let names = differential.lineup().names();
        Some(describe(
            &checked.verdict,
            &names,
            &checked.case.plan,
            &checked.executions,
        ))
    })
}
