//! Reads properties into headers: the request's `x-path` (request.path), `x-plugin`
//! (plugin_name) and `x-source` (source.address); the response's `x-code-size`, the size of
//! response.code as the host encodes it; and marks the stream in the filter state
//! (`wasmdiff.seen`).

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use wasmdiff_guest_filters::Root;

struct Properties;

impl Context for Properties {}

impl HttpContext for Properties {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let wanted = [
            ("x-path", vec!["request", "path"]),
            ("x-plugin", vec!["plugin_name"]),
            ("x-source", vec!["source", "address"]),
        ];
        for (header, path) in wanted {
            if let Some(value) = self.get_property(path) {
                self.add_http_request_header(header, &String::from_utf8_lossy(&value));
            }
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _: usize, _: bool) -> Action {
        if let Some(code) = self.get_property(vec!["response", "code"]) {
            self.add_http_response_header("x-code-size", &code.len().to_string());
        }
        self.set_property(vec!["wasmdiff", "seen"], Some(b"yes"));
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root(|_| Box::new(Properties))));
}}
