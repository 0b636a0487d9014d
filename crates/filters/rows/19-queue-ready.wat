;; Row 19, shared queues. Envoy numbers queues from 1 and calls proxy_on_queue_ready after an
;; enqueue; nginx numbers them from 0 and never calls it.
(module
  (import "env" "proxy_register_shared_queue"
    (func $register (param i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $register (i32.const 16) (i32.const 1) (i32.const 1024)))
    (drop (call $enqueue (i32.load (i32.const 1024)) (i32.const 32) (i32.const 4)))
    (i32.const 1))
  (func (export "proxy_on_queue_ready") (param i32 i32))
  (data (i32.const 16) "q")
  (data (i32.const 32) "item"))
