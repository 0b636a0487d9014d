;; Row 20, metrics misused. Envoy refuses a negative counter increment (BAD_ARGUMENT) and
;; increments a gauge; nginx takes the negative increment and traps on the gauge.
(module
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment (param i32 i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $define (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 1024)))
    (drop (call $increment (i32.load (i32.const 1024)) (i64.const -1)))
    (drop (call $define (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 1028)))
    (drop (call $increment (i32.load (i32.const 1028)) (i64.const 1)))
    (i32.const 1))
  (data (i32.const 16) "c")
  (data (i32.const 32) "g"))
