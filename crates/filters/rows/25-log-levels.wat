;; Row 25, logging at trace. Envoy logs at trace (0); nginx at debug (1).
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $log (i32.const 0) (i32.const 16) (i32.const 2)))
    (i32.const 0))
  (data (i32.const 16) "hi"))
