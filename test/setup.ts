// libp2p and friends call Promise.withResolvers, which Node 20 lacks.
import 'promise.withresolvers/auto'
