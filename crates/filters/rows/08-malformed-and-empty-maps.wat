;; Row 8, maps the host cannot parse and empty ones. Envoy reads a malformed map as empty (the
;; request headers are emptied) and hands the empty map back as pointer 0, size 0; nginx answers
;; BAD_ARGUMENT and keeps the headers.
(module
  (import "env" "proxy_set_header_map_pairs" (func $set_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $set_pairs (i32.const 0) (i32.const 16) (i32.const 4)))
    (drop (call $get_pairs (i32.const 0) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  ;; A map of 4 billion pairs in 4 bytes.
  (data (i32.const 16) "\ff\ff\ff\ff"))
