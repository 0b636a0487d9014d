(module
  (type (;0;) (func (result i32)))
  (table (;0;) 1 funcref)
  (export "f" (func 1))
  (elem (;0;) (table 0) (i32.const 0) func $f)
  (func $f (;0;) (type 0) (result i32)
    i32.const 7
  )
  (func (;1;) (type 0) (result i32)
    i32.const 0
    call_indirect (type 0)
  )
)
