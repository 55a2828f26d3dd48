import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { httpUrl, isLoopback, parseHttpAddress } from '../../src/http/index.js'

describe('--http ADDR', () => {
  it('a bare port binds 127.0.0.1; HOST:PORT and [IPv6]:PORT as given', () => {
    expect(parseHttpAddress('8080')).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(parseHttpAddress('0')).toEqual({ host: '127.0.0.1', port: 0 })
    expect(parseHttpAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 })
    expect(parseHttpAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 })
    expect(httpUrl('::1', 8080)).toBe('http://[::1]:8080')
  })

  it('refuses host names, ports above 65535 and anything else, as usage errors', () => {
    for (const bad of ['example.org:80', '70000', '127.0.0.1:', ':80', 'http://127.0.0.1:80', '']) expect(() => parseHttpAddress(bad), bad).toThrow(UsageError)
  })

  it('knows which addresses only this machine reaches', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '::', '192.0.2.1', '10.0.0.1'].some(isLoopback)).toBe(false)
  })
})
