// the control socket carries errors as the codec workers do (src/errors.ts)
export { errorToWire as toWire, errorFromWire as fromWire, type WireError } from '../errors.js'
