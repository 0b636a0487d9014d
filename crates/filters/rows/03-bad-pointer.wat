;; Row 3, pointers the host cannot use. Envoy writes through a misaligned out-pointer and
;; answers an out-of-bounds one with INVALID_MEMORY_ACCESS; nginx traps on the misaligned one.
(module
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $now (i32.const 1025)))
    (drop (call $log (i32.const 2) (i32.const 65530) (i32.const 100)))
    (i32.const 0)))
