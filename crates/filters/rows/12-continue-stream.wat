;; Row 12, proxy_continue_stream of the upstream and of an unknown stream type. Envoy:
;; UNIMPLEMENTED and BAD_ARGUMENT; nginx: INTERNAL_FAILURE for both.
(module
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $continue (i32.const 3)))
    (drop (call $continue (i32.const 7)))
    (i32.const 0)))
