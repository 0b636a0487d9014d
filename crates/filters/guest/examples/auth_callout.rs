//! Authorizes each request with an HTTP callout: no `authorization` header gets a 401; with
//! one, the request pauses until the `auth` service answers, then resumes on 200 or gets a 403.

use std::time::Duration;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use wasmdiff_guest_filters::Root;

struct Auth;

impl Context for Auth {
    fn on_http_call_response(&mut self, _: u32, _: usize, _: usize, _: usize) {
        if self.get_http_call_response_header(":status").as_deref() == Some("200") {
            self.resume_http_request();
        } else {
            self.send_http_response(403, vec![("x-auth", "denied")], Some(b"forbidden"));
        }
    }
}

impl HttpContext for Auth {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let Some(credentials) = self.get_http_request_header("authorization") else {
            self.send_http_response(401, vec![], Some(b"who are you?"));
            return Action::Pause;
        };
        let headers = vec![(":method", "GET"), (":path", "/check"), (":authority", "auth"), ("authorization", credentials.as_str())];
        match self.dispatch_http_call("auth", headers, None, vec![], Duration::from_secs(1)) {
            Ok(_) => Action::Pause,
            Err(_) => {
                self.send_http_response(503, vec![], Some(b"auth unavailable"));
                Action::Pause
            }
        }
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root(|_| Box::new(Auth))));
}}
