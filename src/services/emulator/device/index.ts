/** The DPS device registration API of the emulator: routes, and the host name devices call. */
export { deviceRoutes, GLOBAL_DEVICE_HOST, TPM_NOT_SUPPORTED } from './routes.js';
