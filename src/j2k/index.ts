/**
 * JPEG 2000 / HTJ2K codestream headers: the marker table, a bounded byte
 * reader, the main-header and tile-part readers and the reference-grid
 * geometry. Used by the chunker (resolution layout), the codec (header check
 * before OpenJPH), the level header check of retrieve and the DICOM reader and
 * writer. Imports nothing but ../errors.js.
 */
export * from './markers.js'
export { ByteReader, type Truncated } from './reader.js'
export { walkSegments, type Segment, type WalkRules } from './segments.js'
export {
  readSiz, readComponent, readCod, readCoc, readCodingStyle, readPrecincts, readComponentIndex, componentIndexBytes,
  quantizationLength, readTlm, parseMainHeader, findSegment, removeComments, RSIZ_HTJ2K, COD_FIXED_BYTES,
  type Siz, type ComponentSiz, type CodingStyle, type Cod, type Coc, type TlmEntry, type MainHeader, type Refuse
} from './main-header.js'
export { readSot, readSotPart, walkTilePartHeader, SOT_LENGTH, SOT_BYTES, type Sot, type SotPart } from './tile-parts.js'
export { MAX_DECOMPOSITIONS, ceilShift, levelExtent, tileGrid } from './geometry.js'
