//! Behaves as its plugin configuration says: `"deny":true` answers every request with 403;
//! `"header":"name","value":"v"` adds that header to every request.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use wasmdiff_guest_filters::config_string;

#[derive(Clone, Default)]
struct Settings {
    deny: bool,
    header: Option<(String, String)>,
}

#[derive(Default)]
struct Root {
    settings: Settings,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        let config = String::from_utf8_lossy(&config);
        self.settings = Settings {
            deny: config.contains("\"deny\":true"),
            header: config_string(&config, "header").zip(config_string(&config, "value")),
        };
        true
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream(self.settings.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Stream(Settings);

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        if self.0.deny {
            self.send_http_response(403, vec![("x-policy", "deny")], Some(b"denied by configuration"));
            return Action::Pause;
        }
        if let Some((name, value)) = &self.0.header {
            self.add_http_request_header(name, value);
        }
        Action::Continue
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| Box::<Root>::default());
}}
