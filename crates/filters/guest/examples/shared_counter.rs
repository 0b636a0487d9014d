//! Counts requests in shared data, with compare-and-swap, and tells each request its number
//! in `x-request-count`.

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, Status};
use wasmdiff_guest_filters::Root;

struct Counter;

impl Context for Counter {}

impl Counter {
    fn next(&self) -> u64 {
        // A CAS mismatch means someone else counted first: read again and retry.
        for _ in 0..8 {
            let (value, cas) = self.get_shared_data("requests");
            let count = value
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                + 1;
            match self.set_shared_data("requests", Some(count.to_string().as_bytes()), cas) {
                Ok(()) => return count,
                Err(Status::CasMismatch) => continue,
                Err(_) => break,
            }
        }
        0
    }
}

impl HttpContext for Counter {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let count = self.next();
        self.add_http_request_header("x-request-count", &count.to_string());
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root(|_| Box::new(Counter))));
}}
