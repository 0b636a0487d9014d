//! Masks `secret` in request and response bodies, across chunks: it buffers the body (PAUSE)
//! until the end of the stream, then rewrites it whole.

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use wasmdiff_guest_filters::Root;

struct BodyRewrite;

impl Context for BodyRewrite {}

fn masked(body: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(body).replace("secret", "******").into_bytes()
}

impl HttpContext for BodyRewrite {
    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        if let Some(body) = self.get_http_request_body(0, size) {
            self.set_http_request_body(0, size, &masked(&body));
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        if let Some(body) = self.get_http_response_body(0, size) {
            self.set_http_response_body(0, size, &masked(&body));
        }
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root(|_| Box::new(BodyRewrite))));
}}
