;; Row 6, header-name case. Envoy forwards the added header as "x-case"; nginx as "X-Case".
(module
  (import "env" "proxy_add_header_map_value"
    (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $add_header (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 32) (i32.const 3)))
    (i32.const 0))
  (data (i32.const 16) "X-Case")
  (data (i32.const 32) "yes"))
