(module
  (type (;0;) (func))
  (memory (;0;) 0 6)
  (start 0)
  (func (;0;) (type 0)
    unreachable
  )
)
