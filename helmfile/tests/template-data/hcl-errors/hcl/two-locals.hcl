values {
}
locals {
  a = 1
}
locals {
}
