"""
Issue 13 scratch measurement (numpy/scipy, not part of identify): the Hessians of a general network
f = C phi2(W2 phi1(W1 x + b1) + b2) + c at points where every second-layer unit sits at a zero of
phi2'' (z2_l = 0 for tanh/sigmoid, sqrt(2) for gelu) are sum_i alpha_i a_i a_i^T exactly (the
entangled term beta_l v_l v_l^T vanishes), so two of them give W1's directions by a generalized
eigenproblem (Jennrich). Points found on the truth perturbed by eps (relative), the Hessians taken
from the truth (what a black box would answer there): min / median |cos| of W1's directions, seeds
1-3 ("none": fewer than 2 such points found within radius 8). (8, 4, 2), random directions, the
generator's distribution (scales 0.3-3, biases N(0, 0.25)), in range(W1)'s coordinates.

    python3 packages/pipeline/bench/beta-free-points.py
"""
import numpy as np
from scipy.optimize import least_squares
from scipy.special import erf, expit
SQ2PI=np.sqrt(2*np.pi)
def pdf(t): return np.exp(-t*t/2)/SQ2PI
def cdf(t): return 0.5*(1+erf(t/np.sqrt(2)))
def act(name):
    if name=='tanh':
        f=np.tanh; d1=lambda t:1-np.tanh(t)**2; d2=lambda t:-2*np.tanh(t)*(1-np.tanh(t)**2)
    elif name=='gelu':
        f=lambda t:t*cdf(t); d1=lambda t:cdf(t)+t*pdf(t); d2=lambda t:pdf(t)*(2-t*t)
    elif name=='silu':
        f=lambda t:t*expit(t); d1=lambda t:expit(t)+t*expit(t)*(1-expit(t)); d2=lambda t:expit(t)*(1-expit(t))*(2+t*(1-2*expit(t)))
    elif name=='softplus':
        f=lambda t:np.logaddexp(0,t); d1=expit; d2=lambda t:expit(t)*(1-expit(t))
    elif name=='sigmoid':
        f=expit; d1=lambda t:expit(t)*(1-expit(t)); d2=lambda t:expit(t)*(1-expit(t))*(1-2*expit(t))
    return f,d1,d2
def randnet(d,m0,m1,rs,directions='random',lo=0.3,hi=3):
    def rows(r,c):
        W=rs.normal(size=(r,c)); W/=np.linalg.norm(W,axis=1,keepdims=True)
        if directions=='orthonormal' and c==d:
            q,_=np.linalg.qr(rs.normal(size=(c,r))); W=q.T
        return W*rs.uniform(lo,hi,size=(r,1))
    W1=rows(m0,d); b1=rs.normal(size=m0)*0.5; W2=rows(m1,m0); b2=rs.normal(size=m1)*0.5; C=rs.normal(size=m1); c=rs.normal()
    return W1,b1,W2,b2,C,c
def hess(params,X,a1,a2):
    # params: M (m0 x r), b1, W2, b2, C ; X (N x r); returns N x r x r
    M,b1,W2,b2,C=params
    f1,d11,d12=act(a1); f2,d21,d22=act(a2)
    Z1=X@M.T+b1; H1=f1(Z1); Z2=H1@W2.T+b2
    g2=d21(Z2)*C  # N x m1
    u=g2@W2      # N x m0
    alpha=d12(Z1)*u  # N x m0
    e=d22(Z2)*C   # N x m1
    V=(d11(Z1)[:,None,:]*W2[None,:,:])@M   # N x m1 x r
    H=np.einsum('ni,ia,ib->nab',alpha,M,M)+np.einsum('nl,nla,nlb->nab',e,V,V)
    return H
def z2zero(a2):
    return {'tanh':0.0,'sigmoid':0.0,'gelu':np.sqrt(2),'silu':2.3994}[a2]
def run(a1,a2,seed,eps,npts=2):
    d,m0,m1=8,4,2
    rs=np.random.default_rng(seed)
    W1,b1,W2,b2,C,c=randnet(d,m0,m1,rs)
    U,_=np.linalg.qr(W1.T); M=W1@U
    f1,d11,d12=act(a1)
    # estimate: perturbed truth
    Me=M*(1+eps*rs.normal(size=M.shape)); b1e=b1+eps*rs.normal(size=m0); W2e=W2*(1+eps*rs.normal(size=W2.shape)); b2e=b2+eps*rs.normal(size=m1)
    t=z2zero(a2)
    pts=[]
    tries=0
    while len(pts)<npts and tries<50:
        tries+=1
        y0=rs.normal(size=m0)
        r=least_squares(lambda y: W2e@f1(Me@y+b1e)+b2e-t, y0)
        if np.linalg.norm(r.fun)<1e-8 and np.linalg.norm(r.x)<8: pts.append(r.x)
    if len(pts)<npts: return None
    Y=np.array(pts)
    H=hess((M,b1,W2,b2,C),Y,a1,a2)
    # Jennrich: eig of H0^{-1} H1 -> eigenvectors columns = M^{-1}... H = M^T D M -> H0^{-1}H1 = M^{-1} D0^{-1} D1 M ; left eigvecs rows of M
    w,V=np.linalg.eig(np.linalg.solve(H[0],H[1]).T)
    A=np.real(V.T); A/=np.linalg.norm(A,axis=1,keepdims=True)
    Mn=M/np.linalg.norm(M,axis=1,keepdims=True)
    cos=np.abs(A@Mn.T).max(0)
    return cos.min(), np.median(cos)
for a1,a2 in [('gelu','tanh'),('silu','tanh'),('softplus','sigmoid'),('sigmoid','sigmoid'),('gelu','gelu')]:
    for eps in [0,1e-3,1e-2,1e-1]:
        out=[run(a1,a2,s,eps) for s in [1,2,3]]
        print(a1,a2,eps,' '.join('none' if o is None else f'{o[0]:.4f}/{o[1]:.4f}' for o in out),flush=True)
