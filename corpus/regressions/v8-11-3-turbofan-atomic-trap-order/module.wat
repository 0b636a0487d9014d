(module
  (type (;0;) (func (param i32) (result i32)))
  (memory (;0;) 1 1 shared)
  (export "i32.atomic.load" (func 0))
  (func (;0;) (type 0) (param i32) (result i32)
    i32.const -722021
    i32.atomic.load
  )
)
