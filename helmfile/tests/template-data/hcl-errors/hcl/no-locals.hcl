values {
  a = local.x
}
