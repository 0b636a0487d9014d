//! What the filters share: a root context that makes one kind of HTTP context.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

/// A root context creating `make(context_id)` for every HTTP stream.
pub struct Root<F: Fn(u32) -> Box<dyn HttpContext>>(pub F);

impl<F: Fn(u32) -> Box<dyn HttpContext>> Context for Root<F> {}

impl<F: Fn(u32) -> Box<dyn HttpContext>> RootContext for Root<F> {
    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some((self.0)(context_id))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The string value of `"key":"value"` in a JSON-like configuration (no escapes).
pub fn config_string(config: &str, key: &str) -> Option<String> {
    let start = config.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = config[start..].find('"')?;
    Some(config[start..start + end].to_string())
}
