// Package web is planmap's HTTP face: the chi router, request logging, and
// the mapping from the store's error codes to HTTP statuses. It never
// writes SQL; it asks the store through the narrow interface it declares.
package web
