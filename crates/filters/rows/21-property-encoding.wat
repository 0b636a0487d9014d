;; Row 21, property values. Envoy hands response.code out as an 8-byte integer; nginx as the
;; text "200".
(module
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get_property (i32.const 16) (i32.const 13) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (data (i32.const 16) "response\00code"))
