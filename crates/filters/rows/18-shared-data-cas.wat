;; Row 18, shared data written twice with CAS 0. Envoy writes unconditionally both times;
;; nginx takes CAS 0 on an existing key as a mismatch.
(module
  (import "env" "proxy_set_shared_data"
    (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $set_shared (i32.const 16) (i32.const 1) (i32.const 32) (i32.const 2) (i32.const 0)))
    (drop (call $set_shared (i32.const 16) (i32.const 1) (i32.const 48) (i32.const 2) (i32.const 0)))
    (i32.const 1))
  (data (i32.const 16) "k")
  (data (i32.const 32) "v1")
  (data (i32.const 48) "v2"))
