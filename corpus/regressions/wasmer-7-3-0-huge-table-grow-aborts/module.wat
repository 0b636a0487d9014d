(module
  (type (;0;) (func (param i32) (result i32)))
  (table (;0;) 10 funcref)
  (export "gr" (func 0))
  (func (;0;) (type 0) (param i32) (result i32)
    ref.null func
    i32.const -43627262
    table.grow 0
  )
)
