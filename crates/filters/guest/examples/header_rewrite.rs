//! Rewrites headers: adds `x-wasmdiff: yes`, replaces `user-agent`, drops `x-debug` on the
//! request; adds `x-served-by: wasmdiff` to the response.

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use wasmdiff_guest_filters::Root;

struct HeaderRewrite;

impl Context for HeaderRewrite {}

impl HttpContext for HeaderRewrite {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        self.add_http_request_header("x-wasmdiff", "yes");
        if self.get_http_request_header("user-agent").is_some() {
            self.set_http_request_header("user-agent", Some("wasmdiff"));
        }
        self.set_http_request_header("x-debug", None);
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _: usize, _: bool) -> Action {
        self.add_http_response_header("x-served-by", "wasmdiff");
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root(|_| Box::new(HeaderRewrite))));
}}
