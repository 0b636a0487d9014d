;; Row 5, request headers after their callback continued. Envoy: reading them from the body
;; callback and adding to them from the response's are BAD_ARGUMENT; nginx reads them, and
;; traps on the write once the response started.
(module
  (import "env" "proxy_get_header_map_value"
    (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value"
    (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (drop (call $get_header (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add_header (i32.const 0) (i32.const 32) (i32.const 6) (i32.const 48) (i32.const 1)))
    (i32.const 0))
  (data (i32.const 16) ":method")
  (data (i32.const 32) "x-late")
  (data (i32.const 48) "1"))
