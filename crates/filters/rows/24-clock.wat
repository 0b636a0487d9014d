;; Row 24, the clock. Envoy's has nanoseconds; nginx's milliseconds.
(module
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $now (i32.const 1024)))
    (i32.const 0)))
