;; Row 2, an import the host lacks. Envoy links proxy_get_buffer_status and answers it;
;; nginx has no such function, so the filter does not link.
(module
  (import "env" "proxy_get_buffer_status" (func $buffer_status (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (drop (call $buffer_status (i32.const 0) (i32.const 1024) (i32.const 1028)))
    (i32.const 0)))
