;; Row 4, a header that is not there: NOT_FOUND on both hosts.
(module
  (import "env" "proxy_get_header_map_value"
    (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get_header (i32.const 0) (i32.const 16) (i32.const 9) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (data (i32.const 16) "x-missing"))
