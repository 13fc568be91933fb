package filters

// The data classes scripts use (XML, Hessian, URL, Netmask, os, http.File)
// register themselves when imported; everything that runs scripts imports
// this package.
import _ "sluice/backend/classes"
