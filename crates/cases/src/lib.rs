//! Findings and cases on disk: the case format, reports, signatures, crash-safe writing.

pub mod case;
pub mod files;
pub mod report;
pub mod signature;
pub mod store;

pub use case::{Case, SHRUNK_DIR, Version, find_cases, is_case};
pub use files::read_module;
pub use report::{
    EngineOutcome, EngineRecord, Expectation, Origin, Report, ShrinkRecord, Size, describe,
};
pub use signature::{Observed, Side, Signature};
pub use store::{Existing, finding_name, module_text, write_case};
