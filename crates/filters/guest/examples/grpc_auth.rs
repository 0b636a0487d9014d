//! Authorizes each request with a unary gRPC call (`authz.Authorizer/Check`, the request path
//! as the message): the request pauses until the answer; "allow" resumes it, any other answer
//! or a failed call gets a 403 that carries the call's gRPC status.

use std::time::Duration;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use wasmdiff_guest_filters::Root;

struct GrpcAuth;

impl Context for GrpcAuth {
    fn on_grpc_call_response(&mut self, _: u32, status_code: u32, response_size: usize) {
        let answer = self.get_grpc_call_response_body(0, response_size);
        if status_code == 0 && answer.as_deref() == Some(&b"allow"[..]) {
            self.resume_http_request();
        } else {
            let status = status_code.to_string();
            self.send_http_response(403, vec![("x-grpc-status", &status)], Some(b"not authorized"));
        }
    }
}

impl HttpContext for GrpcAuth {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let path = self.get_http_request_header(":path").unwrap_or_default();
        let metadata = vec![("x-request-path", path.as_bytes())];
        let call = self.dispatch_grpc_call(
            "authz",
            "authz.Authorizer",
            "Check",
            metadata,
            Some(path.as_bytes()),
            Duration::from_secs(1),
        );
        if call.is_err() {
            self.send_http_response(503, vec![], Some(b"authz unavailable"));
        }
        Action::Pause
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Root(|_| Box::new(GrpcAuth))));
}}
