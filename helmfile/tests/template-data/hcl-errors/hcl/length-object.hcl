values {
  a = length({ x = 1 })
}
