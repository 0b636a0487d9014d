//! Metrics: a counter of requests, a gauge of streams in flight, a histogram of request body
//! sizes; each request learns the count so far in `x-requests-seen`.

use proxy_wasm::hostcalls::{define_metric, get_metric, increment_metric, record_metric};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, MetricType};

#[derive(Clone, Copy, Default)]
struct Metrics {
    requests: u32,
    in_flight: u32,
    body_bytes: u32,
}

#[derive(Default)]
struct Root(Metrics);

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _: usize) -> bool {
        self.0 = Metrics {
            requests: define_metric(MetricType::Counter, "requests_total").unwrap_or(0),
            in_flight: define_metric(MetricType::Gauge, "streams_in_flight").unwrap_or(0),
            body_bytes: define_metric(MetricType::Histogram, "request_body_bytes").unwrap_or(0),
        };
        true
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        increment_metric(self.0.in_flight, 1).ok();
        Some(Box::new(Stream(self.0)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Stream(Metrics);

impl Context for Stream {
    fn on_done(&mut self) -> bool {
        increment_metric(self.0.in_flight, -1).ok();
        true
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        increment_metric(self.0.requests, 1).ok();
        let seen = get_metric(self.0.requests).unwrap_or(0);
        self.add_http_request_header("x-requests-seen", &seen.to_string());
        Action::Continue
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if end_of_stream {
            record_metric(self.0.body_bytes, size as u64).ok();
        }
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::<Root>::default());
}}
