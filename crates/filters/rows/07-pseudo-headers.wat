;; Row 7, pseudo-headers. Envoy counts them in on_request_headers' header count and lets the
;; filter replace :authority; nginx synthesizes them, counts none, and keeps :authority.
(module
  (import "env" "proxy_replace_header_map_value"
    (func $replace_header (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $replace_header (i32.const 0) (i32.const 16) (i32.const 10) (i32.const 32) (i32.const 7)))
    (i32.const 0))
  (data (i32.const 16) ":authority")
  (data (i32.const 32) "changed"))
