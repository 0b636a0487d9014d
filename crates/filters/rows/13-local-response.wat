;; Row 13, a local response's body. Envoy sends "denied"; nginx appends a newline.
(module
  (import "env" "proxy_send_local_response"
    (func $respond (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $respond (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 6)
      (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 1))
  (data (i32.const 16) "denied"))
