values "x" {
}
