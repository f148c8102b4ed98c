locals {
  x = 1
}
values {
  a = local.y
}
