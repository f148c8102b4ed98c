variable {
}
