(module
  (type (;0;) (func (result i64)))
  (memory (;0;) 0 10)
  (export "f" (func 0))
  (func (;0;) (type 0) (result i64)
    (local f64)
    f64.const 0x1.ep+2 (;=7.5;)
    local.set 0
    i64.const 1
    br 0
    memory.size
    unreachable
  )
)
