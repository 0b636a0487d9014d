;; Row 17, proxy_set_buffer_bytes inside the body. Envoy: a start between 0 and the length is
;; BAD_ARGUMENT, the body goes on unchanged; nginx cuts the body at `start` and appends "XX".
(module
  (import "env" "proxy_set_buffer_bytes"
    (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (drop (call $set_buffer (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 16) (i32.const 2)))
    (i32.const 0))
  (data (i32.const 16) "XX"))
