import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { radiographImage, sheppLoganVolume } from '../../src/examples/index.js'
import { writeNifti } from '../../src/formats/index.js'
import { writePng } from '../../src/formats/png/write.js'
import type { RasterImage } from '../../src/types.js'
import { cli } from './cli.js'
import { initRepo, startServe } from './repos.js'
import type { ServeProc } from './serve.js'

/** 320x240 8-bit photo-like image (smooth shading plus a pattern): several levels, exact in 8 bits. */
export function photo8 (): RasterImage {
  const width = 320
  const height = 240
  const data = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = (Math.round(128 + 90 * Math.sin(x / 23) * Math.cos(y / 17)) + ((x >> 4) ^ (y >> 4)) * 3) & 255
  }
  return { width, height, components: 1, bitsStored: 8, signed: false, data }
}

/**
 * A dataset with a CT-like volume (Shepp-Logan, 128x128x12, int16 NIfTI with a rescale of -1024), a 12-bit radiograph
 * (16-bit PNG) and an 8-bit photo, written under `dir/data`.
 */
export async function writeGatewayDataset (dir: string): Promise<string> {
  const data = join(dir, 'data')
  await mkdir(join(data, 'ct'), { recursive: true })
  await mkdir(join(data, 'xray'), { recursive: true })
  const phantom = sheppLoganVolume({ size: 128, slices: 12 })
  // stored values + a rescale (scl_slope/scl_inter), as CT stores Hounsfield units
  phantom.meta.rescale = { slope: 1, intercept: -1024 }
  await writeNifti(join(data, 'ct', 'phantom.nii.gz'), phantom.meta, phantom.slices)
  await writePng(join(data, 'xray', 'chest.png'), radiographImage({ width: 256, height: 320 }).image)
  await writePng(join(data, 'photo.png'), photo8())
  return data
}

export interface GatewayServe {
  repo: string
  root: string
  http: string
  serve: ServeProc
}

/** init + publish the dataset + `serve --http 127.0.0.1:0`; the serve is recorded in `serves`. */
export async function publishAndServe (dir: string, serves: ServeProc[], extra: string[] = []): Promise<GatewayServe> {
  const data = await writeGatewayDataset(dir)
  const { repo } = await initRepo(dir, 'repo')
  const pub = await cli(['publish', data, '--repo', repo, '--json'])
  expect(pub.code, pub.stderr).toBe(0)
  const root = JSON.parse(pub.stdout).root as string
  const serve = await startServe(serves, repo, { extra: ['--http', '127.0.0.1:0', ...extra] })
  const ready = await serve.ready as { http?: string }
  expect(ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  return { repo, root, http: ready.http!, serve }
}
