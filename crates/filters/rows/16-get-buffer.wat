;; Row 16, proxy_get_buffer_bytes. Envoy honours `start` (the first chunk from byte 5 reads
;; "alic") and serves the plugin configuration only in on_configure (NOT_FOUND here); nginx
;; reads from byte 0 ("user") and serves the configuration anywhere.
(module
  (import "env" "proxy_get_buffer_bytes"
    (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get_buffer (i32.const 7) (i32.const 0) (i32.const 100) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (drop (call $get_buffer (i32.const 0) (i32.const 5) (i32.const 4) (i32.const 1024) (i32.const 1028)))
    (i32.const 0)))
