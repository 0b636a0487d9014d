;; Row 26, proxy_set_effective_context of an unknown context: BAD_ARGUMENT on Envoy, OK on nginx.
(module
  (import "env" "proxy_set_effective_context" (func $set_context (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $set_context (i32.const 99)))
    (i32.const 0)))
