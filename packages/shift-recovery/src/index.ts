/**
 * @nnid/shift-recovery — with A-hat and V-hat fixed, fit theta, tau and the scales of
 * b_l = lambda_l G_0(theta)^{-1} A-hat^+ v_l on fresh queries; assemble the network.
 */
export { defaultShiftDataPoints, recoverShifts } from './recover.ts';
export type { ShiftRecoveryOptions, ShiftRecoveryReport, ShiftRecoveryResult } from './recover.ts';
