;; Row 22, properties outside a stream and set_property. Envoy: request.path in the root
;; context is NOT_FOUND, any path can be set in a stream; nginx: a dotted path in the root
;; context is INTERNAL_FAILURE, and paths outside ngx.* and wasmx.* cannot be set (NOT_FOUND).
(module
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $set_property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $size))))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $get_property (i32.const 16) (i32.const 12) (i32.const 1024) (i32.const 1028)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $set_property (i32.const 32) (i32.const 6) (i32.const 48) (i32.const 1)))
    (i32.const 0))
  (data (i32.const 16) "request\00path")
  (data (i32.const 32) "my\00key")
  (data (i32.const 48) "v"))
