export { exportCar, type ExportCarOptions } from './export.js'
export { importCar, completeLevel, type ImportCarResult } from './import.js'
