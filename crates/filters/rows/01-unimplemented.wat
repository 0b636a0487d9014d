;; Row 1 of proxy-wasm-hosts.md, a function the host registers but does not implement.
;; Envoy answers proxy_get_log_level with its log level; nginx traps ("not yet implemented").
(module
  (import "env" "proxy_get_log_level" (func $get_log_level (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get_log_level (i32.const 1024)))
    (i32.const 0)))
