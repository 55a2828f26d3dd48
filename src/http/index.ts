/** The node's read-only HTTP gateway: trustless /ipfs/ responses, /mist/ JSON and renders, the viewer. */
export { startHttpGateway, type HttpGateway, type HttpGatewayOptions } from './server.js'
export { parseHttpAddress, isLoopback, httpUrl, type HttpAddress } from './address.js'
