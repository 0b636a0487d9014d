//! A queue producer and consumer: each request enqueues its path on `events`; the root context
//! drains the queue when notified and logs what it took.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

#[derive(Default)]
struct Consumer {
    queue: u32,
    taken: u32,
}

impl Context for Consumer {}

impl RootContext for Consumer {
    fn on_vm_start(&mut self, _: usize) -> bool {
        self.queue = self.register_shared_queue("events");
        true
    }

    fn on_queue_ready(&mut self, queue: u32) {
        while let Ok(Some(item)) = self.dequeue_shared_queue(queue) {
            self.taken += 1;
            let message = format!("event {}: {}", self.taken, String::from_utf8_lossy(&item));
            proxy_wasm::hostcalls::log(LogLevel::Info, &message).ok();
        }
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Producer))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Producer;

impl Context for Producer {}

impl HttpContext for Producer {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        if let Some(queue) = self.resolve_shared_queue("", "events") {
            let path = self.get_http_request_header(":path").unwrap_or_default();
            self.enqueue_shared_queue(queue, Some(path.as_bytes())).ok();
        }
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::<Consumer>::default());
}}
