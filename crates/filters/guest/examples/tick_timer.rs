//! A tick timer: ticks every 100 ms, counts ticks in shared data and logs them; each request
//! learns the count in `x-ticks`.

use std::time::Duration;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

fn ticks<C: Context + ?Sized>(context: &C) -> u64 {
    let (value, _) = context.get_shared_data("ticks");
    value
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Timer;

impl Context for Timer {}

impl RootContext for Timer {
    fn on_vm_start(&mut self, _: usize) -> bool {
        self.set_tick_period(Duration::from_millis(100));
        true
    }

    fn on_tick(&mut self) {
        let count = ticks(self) + 1;
        self.set_shared_data("ticks", Some(count.to_string().as_bytes()), None).ok();
        proxy_wasm::hostcalls::log(LogLevel::Debug, &format!("tick {count}")).ok();
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Stream;

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        self.add_http_request_header("x-ticks", &ticks(self).to_string());
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::new(Timer));
}}
